require ["relational", "fileinto"];
if header :value "gt" "subject" "あ" { fileinto "AfterA"; }
