require ["fileinto"];
if header :contains "subject" "請求書" { fileinto "Billing"; }
