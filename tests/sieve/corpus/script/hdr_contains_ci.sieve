require ["fileinto"];
if header :contains "Subject" "MEETING" { fileinto "Work"; }
