require ["date", "fileinto"];
if date :originalzone :is "date" "zone" "+0900" { fileinto "JST"; }
