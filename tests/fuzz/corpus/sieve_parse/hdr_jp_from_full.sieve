require ["fileinto"];
if header :contains "from" "田中太郎" { fileinto "TT"; }
