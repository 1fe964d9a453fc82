require ["fileinto"];
if size :under 1000 { fileinto "Small"; }
