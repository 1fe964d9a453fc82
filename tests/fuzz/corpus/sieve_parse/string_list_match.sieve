require ["variables", "fileinto"];
if string :is ["a", "b"] "b" { fileinto "InList"; }
