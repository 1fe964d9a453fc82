require ["variables", "fileinto"];
if header :matches "subject" "* *" { fileinto "S-${1}"; }
