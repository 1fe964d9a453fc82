require ["encoded-character", "fileinto"];
if header :contains "subject" "${unicode:4f1a 8b70}" { fileinto "EncJp"; }
