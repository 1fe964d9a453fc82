require ["fileinto"];
if header :is "subject" "Meeting tomorrow at 10" { fileinto "Work"; }
