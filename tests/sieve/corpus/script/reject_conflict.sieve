require ["reject", "fileinto"];
fileinto "X";
if header :contains "subject" "SPAM" { reject "no"; }
