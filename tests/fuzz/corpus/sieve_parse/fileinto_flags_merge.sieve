require ["fileinto", "imap4flags"];
fileinto "A";
fileinto :flags "$x" "A";
