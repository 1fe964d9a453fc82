require ["body", "fileinto"];
if body :contains "請求書" { fileinto "JpBody"; }
