require ["fileinto"];
if anyof (header :contains "subject" "order", header :contains "subject" "report") { fileinto "Business"; }
