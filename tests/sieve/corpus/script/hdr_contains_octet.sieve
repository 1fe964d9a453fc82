require ["fileinto"];
if header :comparator "i;octet" :contains "subject" "meeting" { fileinto "Work"; }
