require ["date", "relational", "fileinto"];
if date :zone "+0900" :value "ge" "date" "day" "16" { fileinto "Late"; }
