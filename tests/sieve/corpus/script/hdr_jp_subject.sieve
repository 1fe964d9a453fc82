require ["fileinto"];
if header :contains "subject" "会議" { fileinto "Meetings"; }
