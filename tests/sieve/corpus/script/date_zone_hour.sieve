require ["date", "fileinto", "relational"];
if date :zone "+0000" :value "lt" "date" "hour" "10" { fileinto "Morning"; }
