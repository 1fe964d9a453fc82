require ["date", "fileinto"];
if date :zone "+0000" :is "date" "julian" "60264" { fileinto "J"; }
