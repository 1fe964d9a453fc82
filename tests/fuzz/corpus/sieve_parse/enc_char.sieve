require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:4d 65}eting" { fileinto "Enc"; }
