require ["variables", "fileinto"];
set :upperfirst "x" "日本";
fileinto "${x}";
