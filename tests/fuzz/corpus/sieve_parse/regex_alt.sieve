require ["regex", "fileinto"];
if header :regex "subject" "^(re|fwd?):" { fileinto "Reply"; }
