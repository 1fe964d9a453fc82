require ["fileinto"];
if header :contains "subject" "résumé" { fileinto "CV"; }
