require ["date", "fileinto"];
if date :is "date" "year" "2023" { fileinto "Y2023"; }
