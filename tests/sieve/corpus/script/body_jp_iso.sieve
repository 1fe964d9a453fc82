require ["body", "fileinto"];
if body :contains "会議" { fileinto "JpIso"; }
