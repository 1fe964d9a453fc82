require ["fileinto"];
if header :matches "subject" "?X*" { fileinto "QX"; }
