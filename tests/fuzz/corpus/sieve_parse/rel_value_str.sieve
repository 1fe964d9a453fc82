require ["relational", "fileinto"];
if header :value "lt" "subject" "N" { fileinto "AtoM"; }
