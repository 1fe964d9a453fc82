require ["variables", "fileinto"];
fileinto "p${}q";
