require ["variables", "fileinto"];
set :quotewildcard "w" "Meeting*";
if header :matches "subject" "${w}" { fileinto "Lit"; } else { fileinto "NoLit"; }
