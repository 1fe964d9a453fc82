require ["fileinto"];
if header :comparator "i;octet" :is "subject" "Résumé für das Meeting – 日本語" { fileinto "Exact"; }
