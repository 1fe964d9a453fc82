require ["variables", "fileinto"];
set :length "n" "abcdef";
fileinto "len${n}";
