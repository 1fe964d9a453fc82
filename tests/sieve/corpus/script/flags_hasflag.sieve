require ["imap4flags", "fileinto"];
addflag "$Label1";
if hasflag :is "$label1" { fileinto "Labelled"; }
