require ["envelope", "variables", "fileinto"];
if envelope :matches "from" "*@*" { fileinto "env-${2}"; }
