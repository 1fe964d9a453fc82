require ["fileinto"];
if size :over 1M { fileinto "Huge"; } else { fileinto "Normal"; }
