require ["imap4flags", "fileinto"];
addflag "$x";
fileinto "A";
addflag "$y";
fileinto "B";
