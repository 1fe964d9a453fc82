require "fileinto";
if size :over 456 { fileinto "o1"; }
if size :over 457 { fileinto "o2"; }
if size :under 457 { fileinto "u1"; }
if size :under 458 { fileinto "u2"; }
