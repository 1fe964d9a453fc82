require ["variables", "fileinto"];
set :upper "x" "café";
fileinto "${x}";
