require ["regex", "fileinto"];
if header :regex "subject" "MEETING|ORDER" { fileinto "RegCI"; }
