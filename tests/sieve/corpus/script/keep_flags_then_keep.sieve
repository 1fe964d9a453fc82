require ["imap4flags"];
keep :flags "$a";
keep :flags "$b";
