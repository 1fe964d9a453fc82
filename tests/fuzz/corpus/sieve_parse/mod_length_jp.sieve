require ["variables", "fileinto"];
set :length "x" "日本語abc";
fileinto "n${x}";
