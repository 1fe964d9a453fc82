require ["fileinto", "copy"];
fileinto "X" :copy;
