require ["fileinto"];
if header :matches "subject" "*order #*" { fileinto "Orders"; }
