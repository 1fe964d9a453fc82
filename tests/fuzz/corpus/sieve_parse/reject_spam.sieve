require ["reject"];
if header :contains "subject" "SPAM" { reject "no thanks"; }
