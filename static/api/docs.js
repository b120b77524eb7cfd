// Mounts Scalar 1.76 from our own static files with no outside requests: no web fonts, no proxy,
// no hosted client, no AI agent or developer-tools upsells (they reach Scalar's servers).
(function () {
  var url = document.getElementById("docs-config").getAttribute("data-schema-url");
  window.thirdlaneDocs = Scalar.createApiReference("#app", {
    url: url,
    withDefaultFonts: false,
    hideClientButton: true,
    showDeveloperTools: "never",
    agent: { disabled: true },
    telemetry: false,
    documentDownloadType: "both",
    theme: "default",
    metaData: { title: "Thirdlane portal API" }
  });
})();
