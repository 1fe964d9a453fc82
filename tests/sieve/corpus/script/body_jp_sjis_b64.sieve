require ["body", "fileinto"];
if body :contains "来週" { fileinto "JpSjis"; }
