require "fileinto";
if size :over 11346 { fileinto "o1"; }
if size :over 11347 { fileinto "o2"; }
if size :under 11347 { fileinto "u1"; }
if size :under 11348 { fileinto "u2"; }
