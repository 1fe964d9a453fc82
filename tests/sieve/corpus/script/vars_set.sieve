require ["variables", "fileinto"];
set "box" "Folder1";
fileinto "${box}";
