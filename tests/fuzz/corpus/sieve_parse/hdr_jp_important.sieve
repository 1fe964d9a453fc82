require ["fileinto"];
if header :contains "subject" "【重要】" { fileinto "Important"; }
