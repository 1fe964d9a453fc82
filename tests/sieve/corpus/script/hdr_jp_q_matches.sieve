require ["fileinto"];
if header :matches "subject" "?議*" { fileinto "Q"; }
