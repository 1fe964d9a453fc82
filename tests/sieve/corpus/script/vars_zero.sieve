require ["variables", "fileinto"];
if header :matches "subject" "*" { fileinto "all-${0}"; }
