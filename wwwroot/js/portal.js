// Portal scripts: features add their browser helpers under window.portal.
window.portal = window.portal || {};
window.portal.markCircuitUp = () => { window.portalCircuitUp = true; };
