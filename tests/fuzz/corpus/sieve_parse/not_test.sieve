require ["fileinto"];
if not header :contains "subject" "report" { fileinto "NotReport"; }
