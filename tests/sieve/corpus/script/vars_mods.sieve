require ["variables", "fileinto"];
set :lower :upperfirst "b" "WORK";
fileinto "${b}";
