require ["imap4flags", "fileinto", "copy"];
fileinto :copy "A";
addflag "$late";
