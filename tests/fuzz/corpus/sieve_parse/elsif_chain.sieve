require ["fileinto"];
if header :contains "subject" "order" { fileinto "A"; }
elsif header :contains "subject" "report" { fileinto "B"; }
elsif header :contains "subject" "meeting" { fileinto "C"; }
else { fileinto "D"; }
