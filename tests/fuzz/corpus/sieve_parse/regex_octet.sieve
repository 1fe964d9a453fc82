require ["regex", "fileinto"];
if header :regex :comparator "i;octet" "subject" "MEETING|ORDER" { fileinto "RegOct"; }
